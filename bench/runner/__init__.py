"""The bench runner: starts each server and its peers, measures them in one run, reports."""
