"""Models and datasets shared by server and sites, and partitioning across sites."""
