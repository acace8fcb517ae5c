//! L2 JSON-RPC: eth_* and rollup_* over HTTP and WebSocket
