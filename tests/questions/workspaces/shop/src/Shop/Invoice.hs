-- | Invoices sent to customers.
module Shop.Invoice
  ( Invoice (..)
  , Customer (..)
  , render
  , invoiceFor
  , dueDate
  ) where

import Data.Time (Day, addDays)

import Shop.Types

data Customer = Customer
  { customerName :: String
  , customerEmail :: String
  , vip :: Bool
  } deriving (Show, Eq)

data Invoice = Invoice
  { invoiceOrder :: Order
  , invoiceCustomer :: Customer
  , issuedOn :: Day
  } deriving (Show, Eq)

invoiceFor :: Customer -> Day -> Order -> Invoice
invoiceFor customer day order = Invoice order customer day

dueDate :: Invoice -> Day
dueDate inv = addDays 30 (issuedOn inv)

render :: Invoice -> String
render inv = customerName (invoiceCustomer inv) ++ " owes " ++ show (orderTotal (invoiceOrder inv))
