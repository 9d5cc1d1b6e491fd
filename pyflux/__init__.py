"""pyflux"""
