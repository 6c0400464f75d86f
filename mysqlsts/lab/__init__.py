"""The offline lab: builds a kind node image and stand-in images from Debian and Go modules."""
