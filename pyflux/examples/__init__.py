"""The course examples pyflux exists for; ``python -m pyflux.examples`` runs them all."""
