"""Motion core: orientation -> motion signal (tracker) -> reps and phases (detector). Pure, synchronous."""
