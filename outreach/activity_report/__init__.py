"""The annual activity report of an association (ASA-CAARUD figures), for its supervisor."""
