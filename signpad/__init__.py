"""The signing pad: a tablet at the desk where patrons check and sign their forms."""
