import gc

from service.app import create_app, warm_up

app = create_app()
# The first searches of this worker load nothing more (kb.search.warmup); kb serve loaded the shared tables
# in the master before forking it.
warm_up(app)
# What the worker built at startup (the index reader, synonyms, schemas, ~135k objects) lives as long as
# the worker: moved out of the collector's reach, so no full collection (~40 ms here) stalls a search.
gc.freeze()
