"""(being built in this session)."""
