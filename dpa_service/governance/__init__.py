"""What legal governs with four eyes (template versions, subprocessor lists): one review."""
