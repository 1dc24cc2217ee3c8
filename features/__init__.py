"""Features: from an HTML page to image occurrences, and from those to model inputs."""
