#!/bin/sh
IMAGE=ghcr.io/acme/api:1.4.1 # imagebump: ghcr.io/acme/api
echo "deploying $IMAGE"
