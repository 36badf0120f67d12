"""Control of loads: controllable loads, actuator channels, arbitration and the fail-safe."""
