"""What the user sees and hears at the desktop: notifications (the tray and break screens
will live here too). Nothing here imports the monitor; the monitor wires it in."""
