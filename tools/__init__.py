"""Developer tools that are not part of the installed ``trailforensics`` package (see ``sample``)."""
