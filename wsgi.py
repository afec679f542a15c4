import gc

from service.app import create_app

app = create_app()
# What the worker built at startup (the index reader, synonyms, schemas, ~135k objects) lives as long as
# the worker: moved out of the collector's reach, so no full collection (~40 ms here) stalls a search.
gc.freeze()
