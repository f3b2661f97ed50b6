enum _PlaceholderTugStorageSQLite {}
