"""Reports: figures and ledgers read from the domain, never changing it."""
