import Manifests
import Testing

/// `scan --all`'s screen: a file it turns away must hold no reference; files that do must pass.
@Suite struct KeyScreenTests {
    static func passes(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { KeyScreen.mightHoldAnyReference($0) }
    }

    @Test(arguments: [
        "image: ghcr.io/acme/api:1.0\n",
        "containers:\n  - image: nginx\n",
        "- {name: api, image: 'ghcr.io/acme/api:1.0'}\n",
        "{\"image\": \"nginx:1.25\"}\n",
        "image:\n  repository: ghcr.io/acme/api\n  tag: 1.0\n",
        "image:\n  # the registry's name\n  ghcr.io/acme/api:1.0\n",
        "image: &api\n  repository: ghcr.io/acme/api\n",
        "copy:\n  image: *api\n",
        "images:\n  - name: ghcr.io/acme/api\n    newTag: 1.0\n",
        "helm:\n  parameters:\n    - name: image.name\n      value: ghcr.io/acme/api\n",
        "image: ghcr.io/acme/api # imagebump: ghcr.io/acme/api\n",
        "tag: 1.0 # {\"$imagepolicy\": \"flux-system:api:tag\"}\n",
        "values: |\n  worker:\n    repository: ghcr.io/acme/api\n",
    ])
    func aFileThatMayHoldAReferencePasses(text: String) {
        #expect(Self.passes(text))
    }

    @Test(arguments: [
        "",
        "replicas: 2\n",
        // A CRD's schema: `image` and `repository` keys whose values are mappings, prose.
        "properties:\n  image:\n    description: Container image name.\n    type: string\n  repository:\n    type: object\n",
        "image:\n\n  # a comment\n  description: the image to run\n",
        "imagePullPolicy: Always\ncontainerImage: x\n",
        "description: Docker image name. More info https://kubernetes.io/docs/concepts/containers/images\n",
        "repository:\n  - url: https://github.com/acme/env\n",
        "image:",
    ])
    func aFileThatCannotHoldAReferenceIsTurnedAway(text: String) {
        #expect(!Self.passes(text))
    }
}
