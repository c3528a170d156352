from bot.quick import main

raise SystemExit(main())
