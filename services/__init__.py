"""Domain logic and adapters: auth, orders, wallet, mail, storage, jobs, cache, pubsub."""
