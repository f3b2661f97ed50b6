enum _PlaceholderTugAPIServer {}
