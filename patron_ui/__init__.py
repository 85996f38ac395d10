"""What every patron screen shares (kiosk, return box, signpad): the look (colours, type,
pictograms), the account models and reads, the rows, the worker and the translator."""
