"""The public territory map: vector tiles built in the database, the accessible list of what the
map shows, and the public details of a report. What is public comes from signalements (its public
selectors and `Category.is_sensitive`); this package only decides how it is drawn and cached."""
