"""HTTP only: routes that call the index, search and store, and serialize the answers."""
