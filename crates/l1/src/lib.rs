//! L1 follower over JSON-RPC: turns an L1 node's blocks and receipts into L1 notifications
