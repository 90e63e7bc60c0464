"""The HTTP surface: RingCentral's REST paths, its error bodies, paging and OAuth."""
