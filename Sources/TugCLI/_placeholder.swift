enum _PlaceholderTugCLI {}
