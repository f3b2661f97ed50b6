enum _PlaceholderTugStorage {}
