module "api" {
  source = "./modules/service"
  image  = "ghcr.io/acme/api"     # imagebump: ghcr.io/acme/api:name
  tag    = "1.4.1"                # imagebump: ghcr.io/acme/api:tag
}
