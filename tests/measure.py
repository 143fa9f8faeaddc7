"""Resident memory as the tests measure it (Linux): the rise of the high-water mark."""


def peak_growth(run) -> int:
    """Bytes by which the process's resident high-water mark rises during ``run()``."""

    def high_water_mark():
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024

    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the mark restarts from what is resident now
    before = high_water_mark()
    run()
    return high_water_mark() - before
