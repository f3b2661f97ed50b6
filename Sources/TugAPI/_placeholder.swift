enum _PlaceholderTugAPI {}
