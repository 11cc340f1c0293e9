from dlbook.data.cli import main

raise SystemExit(main())
