"""The records that cross the harness's modules: data only, built once, never changed."""
