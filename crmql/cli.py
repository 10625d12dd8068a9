def main() -> int:  # placeholder, replaced by the real CLI
    return 0
