"""One-stop instant claim settlement (一站式即时理赔)."""
