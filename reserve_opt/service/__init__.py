"""``reserve-opt serve``: the engine as an HTTP service (see :mod:`reserve_opt.service.app`)."""
