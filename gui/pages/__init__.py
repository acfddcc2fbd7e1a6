"""The window's pages: Data, Network, Search, Results."""
