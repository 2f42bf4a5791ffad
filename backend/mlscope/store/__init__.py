"""Reading (and, in writer.py, writing) the mlruns file format. No HTTP, no caching."""
