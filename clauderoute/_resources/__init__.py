"""SDK-shaped resource namespaces of ``AsyncClient``."""
