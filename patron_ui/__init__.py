"""The look every patron screen shares (kiosk, return box, signpad): colours, type, pictograms."""
