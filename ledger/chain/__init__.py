"""The chain layer: the node client (the one module that imports web3), the contract's ABI, events
and gas, and deployments."""
