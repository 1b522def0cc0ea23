"""The agent: route -> retrieve -> prompt -> stream -> tools -> remember; chat sessions."""
