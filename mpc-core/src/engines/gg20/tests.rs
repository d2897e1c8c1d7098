//! Malicious-party tests of the GG20 engine.
