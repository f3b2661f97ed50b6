enum _PlaceholderTugRegistry {}
