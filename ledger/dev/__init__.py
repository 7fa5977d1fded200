"""Local development: Anvil, its public dev keys, the Solidity compiler, and the end-to-end demo."""
