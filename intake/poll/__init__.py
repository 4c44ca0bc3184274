"""One poll: fetch, decide, store, reply, move; batches and worker processes."""
