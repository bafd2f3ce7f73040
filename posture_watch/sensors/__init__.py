"""Context sensors: each turns one signal from the outside world (another program on the
camera, the screen lock and sleep, working hours, do-not-disturb, a full-screen window, a
listed app, keyboard and mouse idle) into the conditions that hold now, behind one
interface (`sensor.Sensor`). One module per signal; none decides anything."""
