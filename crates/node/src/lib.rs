//! The ExEx-shaped rollup core: L1 notifications to derivation, execution and storage; heads
