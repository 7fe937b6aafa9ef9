"""The processor's profile: its own facts the DPA prints, governed by legal with four eyes."""
