"""Bronze: landing files admitted against their source contracts into one raw Delta table per system."""
