enum _PlaceholderTugClient {}
