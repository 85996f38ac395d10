"""Central's web pages for staff: the app, shared sign-in and the staff pages."""
